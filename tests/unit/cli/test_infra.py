"""`afl infra`, `afl topics`, `afl spark`: what they say without a broker running."""


def test_status_without_a_broker_says_how_to_start_one_and_exits_1(afl):
    ran = afl("infra", "status")
    assert (ran.code, ran.out.strip()) == (
        1,
        "Kafka broker is not running (start it with `afl infra up`)",
    )


def test_down_without_a_broker_is_a_no_op(afl):
    ran = afl("infra", "down")
    assert (ran.code, ran.out.strip()) == (0, "Kafka broker was not running; nothing to do")


def test_spark_packages_prints_the_submit_list(afl):
    ran = afl("spark", "packages")
    assert (ran.code, ran.out.strip()) == (
        0,
        "io.delta:delta-spark_2.13:4.0.0,org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.0",
    )
