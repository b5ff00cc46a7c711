"""Gazebo (Ionic) + ros_gz_bridge for a Vigie world.

``ros2 launch simulations/gazebo/vigie_sim.launch.py world:=street`` (or ``world:=park``).

Needs a ROS 2 Kilted install with ``ros_gz`` (``launch``, ``launch_ros`` and ``ros_gz_sim`` are not on PyPI):
this file is only parsed, never imported, on the development machines.
"""

# mypy: ignore-errors
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

HERE = Path(__file__).resolve().parent
WORLDS = HERE / "worlds"
BRIDGE_CONFIG = HERE / "bridge.yaml"
WORLD_FILES = {"street": WORLDS / "street.sdf", "park": WORLDS / "park.sdf"}


def generate_launch_description() -> LaunchDescription:
    world = LaunchConfiguration("world")
    world_file = PythonExpression(["'", str(WORLDS), "/' + '", world, "' + '.sdf'"])
    return LaunchDescription([
        DeclareLaunchArgument("world", default_value="street", choices=sorted(WORLD_FILES),
                              description="which world of simulations/gazebo/worlds to load"),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(
                PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])),
            launch_arguments={"gz_args": ["-r ", world_file]}.items(),
        ),
        Node(
            package="ros_gz_bridge",
            executable="parameter_bridge",
            name="vigie_bridge",
            parameters=[{"config_file": str(BRIDGE_CONFIG), "use_sim_time": True}],
            output="screen",
        ),
    ])
