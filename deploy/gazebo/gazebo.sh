#!/usr/bin/env bash
# The gazebo container (docker-compose.yml, profile "gazebo"): a Vigie world in Gazebo and its ROS bridge.
# With DISPLAY set: the launch file (server, GUI and bridge, simulations/gazebo/vigie_sim.launch.py).
# Without: the server headless with EGL rendering (the gpu_lidar needs a render engine) and the bridge, the
# "by hand" commands of simulations/gazebo/README.md.
set -euo pipefail
world="${VIGIE_ROBOT_WORLD:-street}"
cd /opt/vigie/simulations/gazebo
[ -f "worlds/${world}.sdf" ] || { echo "gazebo: no world '${world}' in simulations/gazebo/worlds" >&2; exit 2; }

set +u  # setup.bash reads variables that may be unset
# shellcheck disable=SC1091
source /opt/ros/kilted/setup.bash
set -u

if [ -n "${DISPLAY:-}" ]; then
    exec ros2 launch vigie_sim.launch.py world:="$world"
fi

gz sim -s -r --headless-rendering "worlds/${world}.sdf" &
sim=$!
ros2 run ros_gz_bridge parameter_bridge --ros-args -p config_file:=bridge.yaml -p use_sim_time:=true &
bridge=$!
trap 'kill -TERM "$sim" "$bridge" 2>/dev/null || true; wait || true; exit 0' TERM INT
status=0
wait -n || status=$?
echo "gazebo: a process exited (status ${status}); stopping the other" >&2
kill -TERM "$sim" "$bridge" 2>/dev/null || true
wait || true
exit $(( status == 0 ? 1 : status ))
