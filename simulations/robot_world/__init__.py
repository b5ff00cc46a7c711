"""An embedded kinematic robot world (numpy) behind the ROS 2 topic contract: Gazebo's stand-in for tests."""
