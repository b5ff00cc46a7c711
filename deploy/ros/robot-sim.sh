#!/usr/bin/env bash
# The robot-sim container (docker-compose.yml): one simulated robot on ROS 2 Kilted.
#
# Up to three processes: the embedded simulator (unless VIGIE_ROBOT_SIMULATOR=gazebo, when the gazebo service
# provides the same topics), the safety monitor and the telemetry bridge. When one exits, the others are
# stopped and the container exits non-zero, so the restart policy restarts the set: a bridge without its
# monitor, or a monitor without its sensors, is not a robot worth reporting on.
set -euo pipefail

: "${VIGIE_ROBOT_MQTT_PASSWORD:?is empty: issue the MQTT password of the robot first (POST /api/v1/robots/<id>/mqtt-credentials, docs/deployment.md) and set it in .env}"
robot_id="${VIGIE_ROBOT_ID:-follower-01}"
kind="${VIGIE_ROBOT_KIND:-follower}"
world="${VIGIE_ROBOT_WORLD:-street}"
simulator="${VIGIE_ROBOT_SIMULATOR:-embedded}"
broker="${VIGIE_ROBOT_MQTT_BROKER:-mqtt://mosquitto:1883}"
profile="/opt/vigie/robot_nodes/profiles/${kind}.yaml"
[ -f "$profile" ] || { echo "robot-sim: no profile for kind '${kind}' (${profile})" >&2; exit 2; }
case "$simulator" in embedded|gazebo) ;; *) echo "robot-sim: VIGIE_ROBOT_SIMULATOR must be embedded or gazebo" >&2; exit 2;; esac

# The robot's own account (its ACL lets it publish only its state and read only its commands). The password
# is token_urlsafe, so it needs no escaping in the URL.
mqtt_url="${broker%%://*}://${robot_id}:${VIGIE_ROBOT_MQTT_PASSWORD}@${broker#*://}"
bridge_tls=()
if [ -n "${VIGIE_ROBOT_MQTT_CA_FILE:-}" ]; then
    bridge_tls=(-p "mqtt_ca_file:=${VIGIE_ROBOT_MQTT_CA_FILE}")
fi

set +u  # setup.bash reads variables that may be unset
# shellcheck disable=SC1091
source /opt/ros/kilted/setup.bash
set -u

pids=()
if [ "$simulator" = embedded ]; then
    # A follower walks behind its collector: simulated worker 0, tracked on /leader (follower.yaml follows it).
    leader=-1
    [ "$kind" = follower ] && leader=0
    python -m simulations.robot_world --ros-args -p world:="$world" -p leader:="$leader" &
    pids+=($!)
fi
# Simulated time from /clock (the embedded simulator or Gazebo), as in tests/robot_harness.py.
vigie-safety-monitor --ros-args --params-file "$profile" -p robot_id:="$robot_id" -p use_sim_time:=true &
pids+=($!)
# The map origin of the simulated worlds (simulations/robot_world/wearables.py: Paris).
vigie-robot-bridge --ros-args -p robot_id:="$robot_id" -p kind:="$kind" -p mqtt_url:="$mqtt_url" \
    -p use_sim_time:=true -p origin_lat:=48.8566 -p origin_lon:=2.3522 "${bridge_tls[@]}" &
pids+=($!)

stop() {
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait || true
}
trap 'stop; exit 0' TERM INT

status=0
wait -n || status=$?
echo "robot-sim: a node exited (status ${status}); stopping the others" >&2
stop
exit $(( status == 0 ? 1 : status ))
