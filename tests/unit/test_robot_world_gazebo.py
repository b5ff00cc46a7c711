"""The Gazebo assets agree with the topic contract (checked statically: Gazebo is not installable here)."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from robot_nodes import topics

GAZEBO = Path(__file__).parents[2] / "simulations" / "gazebo"
WORLDS = sorted((GAZEBO / "worlds").glob("*.sdf"))
BRIDGE = yaml.safe_load((GAZEBO / "bridge.yaml").read_text())
CONTRACT = {value.name: value for value in vars(topics).values() if isinstance(value, topics.TopicSpec)}


def gz_topics(sdf: Path) -> set[str]:
    """Every Gazebo topic the world's systems and sensors publish or subscribe, as the bridge must name them."""
    root = ET.parse(sdf).getroot()
    world = root.find("world")
    assert world is not None
    found = {"/clock", f"/world/{world.get('name')}/pose/info"}  # the world's clock and scene broadcaster
    for model in world.iter("model"):
        for plugin in model.iter("plugin"):
            found |= {e.text for tag in ("topic", "odom_topic") for e in plugin.findall(tag) if e.text}
            battery = plugin.findtext("battery_name")
            if "LinearBatteryPlugin" in (plugin.get("name") or "") and battery:
                found.add(f"/model/{model.get('name')}/battery/{battery}/state")
        found |= {e.text for sensor in model.iter("sensor") for e in sensor.findall("topic") if e.text}
    return found


def test_there_is_a_street_and_a_park_world() -> None:
    assert [p.name for p in WORLDS] == ["park.sdf", "street.sdf"]


@pytest.mark.parametrize("sdf", WORLDS, ids=lambda p: p.name)
def test_world_is_sdf_1_9_with_a_lidar_diff_drive_robot(sdf: Path) -> None:
    root = ET.parse(sdf).getroot()
    assert root.tag == "sdf" and root.get("version") == "1.9"
    robot = root.find("./world/model[@name='vigie_robot']")
    assert robot is not None
    assert robot.find(".//sensor[@type='gpu_lidar']") is not None
    plugins = {p.get("name") for p in robot.iter("plugin")}
    assert {"gz::sim::systems::DiffDrive", "gz::sim::systems::JointStatePublisher",
            "gz::sim::systems::LinearBatteryPlugin"} <= plugins
    joints = {j.get("name") for j in robot.iter("joint")}
    assert {"left_wheel_joint", "right_wheel_joint"} <= joints
    assert len(root.findall("./world/model")) > 3  # ground, robot and obstacles


def test_every_bridged_topic_is_in_the_contract_with_the_same_type() -> None:
    for entry in BRIDGE:
        assert set(entry) == {"ros_topic_name", "gz_topic_name", "ros_type_name", "gz_type_name", "direction"}
        spec = CONTRACT[entry["ros_topic_name"]]
        assert entry["ros_type_name"] == spec.msg_type
        expected = "ROS_TO_GZ" if spec is topics.CMD_VEL else "GZ_TO_ROS"
        assert entry["direction"] == expected


def test_every_simulated_contract_topic_is_bridged_once() -> None:
    bridged = [entry["ros_topic_name"] for entry in BRIDGE]
    assert sorted(bridged) == sorted(spec.name for spec in topics.SIMULATED)


@pytest.mark.parametrize("sdf", WORLDS, ids=lambda p: p.name)
def test_the_sdf_provides_every_gazebo_topic_the_bridge_names(sdf: Path) -> None:
    assert {entry["gz_topic_name"] for entry in BRIDGE} <= gz_topics(sdf)


def test_the_sdf_lidar_matches_the_embedded_simulator() -> None:
    from simulations.robot_world.world import LidarSpec

    lidar = LidarSpec()
    for sdf in WORLDS:
        sensor = ET.parse(sdf).getroot().find(".//sensor[@type='gpu_lidar']")
        assert sensor is not None
        assert int(sensor.findtext("lidar/scan/horizontal/samples", "0")) == lidar.samples
        assert float(sensor.findtext("lidar/range/max", "0")) == lidar.range_max_m
        assert float(sensor.findtext("lidar/range/min", "0")) == lidar.range_min_m


def test_the_launch_file_parses_and_names_files_that_exist() -> None:
    source = (GAZEBO / "vigie_sim.launch.py").read_text()
    tree = ast.parse(source)
    names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "generate_launch_description" in names
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert "bridge.yaml" in strings and (GAZEBO / "bridge.yaml").is_file()
    for world in ("street.sdf", "park.sdf"):
        assert world in strings and (GAZEBO / "worlds" / world).is_file()
    assert {"ros_gz_bridge", "parameter_bridge", "ros_gz_sim", "config_file"} <= strings
    assert source.count("# mypy: ignore-errors") == 1
