"""ROS 2 (rclpy) nodes that run on Vigie's assistive robots: the on-robot safety monitor and the
telemetry bridge to the gateway. Installed with the ``ros`` extra; see the robot issue for their scope.
The pure logic they call (separation distances, hysteresis) lives in ``services``."""
