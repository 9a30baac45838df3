from importlib.metadata import version

from pipelines.spark.session import spark_packages


def test_packages_match_the_installed_pins_exactly():
    assert spark_packages() == [
        f"io.delta:delta-spark_2.13:{version('delta-spark')}",
        f"org.apache.spark:spark-sql-kafka-0-10_2.13:{version('pyspark')}",
    ]
    assert version("pyspark") == "4.0.0"


def test_delta_4_1_and_later_name_the_spark_line_in_the_artifact():
    assert spark_packages("4.1.3", "4.4.0") == [
        "io.delta:delta-spark_4.1_2.13:4.4.0",
        "org.apache.spark:spark-sql-kafka-0-10_2.13:4.1.3",
    ]
    assert spark_packages("4.0.1", "4.0.1")[0] == "io.delta:delta-spark_2.13:4.0.1"
