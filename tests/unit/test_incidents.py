import math

from services.incidents import RobotPosition, haversine_m, nearest_robot


def test_one_thousandth_of_a_degree_of_latitude_is_about_111_m():
    assert math.isclose(haversine_m(48.85, 2.35, 48.851, 2.35), 111.2, abs_tol=0.5)


def test_the_closest_robot_within_range_is_linked():
    robots = [RobotPosition("far", 48.8600, 2.35), RobotPosition("near", 48.85005, 2.35),
              RobotPosition("nearer", 48.85002, 2.35)]
    robot_id, distance_m = nearest_robot(48.85, 2.35, robots, max_distance_m=30) or ("", 0.0)
    assert robot_id == "nearer" and distance_m < 3


def test_no_robot_is_linked_beyond_the_distance():
    assert nearest_robot(48.85, 2.35, [RobotPosition("r", 48.851, 2.35)], max_distance_m=30) is None
