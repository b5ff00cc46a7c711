from gateway.mqtt import topics


def test_frame_status_and_robot_topics_are_recognised():
    assert topics.parse("vigie/v1/wearables/wear-0001/frame") == topics.Topic(topics.TopicKind.FRAME, "wear-0001")
    assert topics.parse("vigie/v1/wearables/w.1/status") == topics.Topic(topics.TopicKind.STATUS, "w.1")
    assert topics.parse("vigie/v1/robots/robot-01/state") == topics.Topic(topics.TopicKind.ROBOT_STATE, "robot-01")


def test_anything_else_is_not_a_contract_topic():
    for topic in ["vigie/v1/wearables/wear-1/frame/extra", "vigie/v2/wearables/w/frame",
                  "vigie/v1/robots/r/frame", "vigie/v1/wearables//frame", "vigie/v1/wearables/-bad/frame",
                  "vigie/v1/wearables/" + "x" * 65 + "/frame", "vigie/v1/wearables/wé/frame"]:
        assert topics.parse(topic) is None, topic


def test_shared_subscription_prefix_splits_work_between_workers():
    assert topics.shared(topics.FRAME_FILTER, "vigie") == "$share/vigie/vigie/v1/wearables/+/frame"
    assert topics.shared(topics.FRAME_FILTER, None) == topics.FRAME_FILTER
