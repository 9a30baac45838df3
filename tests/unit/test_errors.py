"""root_cause: the one line a person reads from a Python or JVM failure.

The traces are shortened copies of what PySpark 4.0 raises (``str(exc)``): a Py4JJavaError
of a failed write, a Python worker's traceback, a streaming query's nested causes.
"""

from pipelines.errors import AflError, SettingsError, root_cause

PART = "file:/lake/bronze/agent_events/part-00000-ba0b214b-c000.snappy.parquet"

# str(Py4JJavaError): py4j's "An error occurred while calling ..." and, after ": ", the
# JVM's stack trace, whose innermost cause comes last.
PY4J_TRACE = f"""An error occurred while calling o39.save.
: org.apache.spark.SparkException: [FAILED_READ_FILE.FILE_NOT_EXIST] Encountered error while \
reading file {PART}. File does not exist. It is possible the underlying files have been updated.
You can explicitly invalidate the cache in Spark by running 'REFRESH TABLE tableName' command \
in SQL or by recreating the Dataset/DataFrame involved. SQLSTATE: KD001
\tat org.apache.spark.sql.errors.QueryExecutionErrors$.fileNotExistError\
(QueryExecutionErrors.scala:831)
\tat py4j.ClientServerConnection.run(ClientServerConnection.java:108)
\tat java.base/java.lang.Thread.run(Thread.java:840)
\tSuppressed: org.apache.spark.util.Utils$OriginalTryStackTraceException: Full stacktrace of \
original doTryWithCallerStacktrace caller
\t\tat org.apache.spark.util.Utils$.doTryWithCallerStacktrace(Utils.scala:1378)
\t\t... 18 more
Caused by: java.io.FileNotFoundException: File {PART} does not exist
\tat org.apache.hadoop.fs.RawLocalFileSystem.deprecatedGetFileStatus(RawLocalFileSystem.java:917)
\tat org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:650)
\t... 1 more
"""

# A streaming query that failed on Kafka: each "Caused by" is one level further in.
NESTED_TRACE = """\
org.apache.spark.sql.streaming.StreamingQueryException: [STREAM_FAILED] Query [id = 5c2e, \
runId = 91aa] terminated with exception: Writing job aborted SQLSTATE: XXKST
\tat org.apache.spark.sql.execution.streaming.StreamExecution.runStream(StreamExecution.scala:352)
Caused by: org.apache.spark.SparkException: Writing job aborted
\tat org.apache.spark.sql.errors.QueryExecutionErrors$.writingJobAbortedError\
(QueryExecutionErrors.scala:767)
\t... 12 more
Caused by: org.apache.kafka.common.errors.TimeoutException: Timeout of 60000ms expired before \
the position for partition agent.outcome.v1-0 could be determined
\t... 20 more
"""

# str(PythonException) of a failing UDF: the worker's own traceback.
PYTHON_TRACE = """
  An exception was thrown from the Python worker. Please see the stack trace below.
Traceback (most recent call last):
  File "/work/pipelines/transforms/silver.py", line 88, in parse_rating
    return int(raw)
           ^^^^^^^^
ValueError: invalid literal for int() with base 10: 'five'
"""


def test_a_py4j_trace_gives_the_innermost_jvm_cause():
    assert root_cause(PY4J_TRACE) == f"FileNotFoundException: File {PART} does not exist"


def test_a_nested_trace_gives_its_last_caused_by():
    assert root_cause(NESTED_TRACE) == (
        "TimeoutException: Timeout of 60000ms expired before the position for partition "
        "agent.outcome.v1-0 could be determined"
    )


def test_a_python_traceback_gives_the_exception_line_without_its_module():
    assert root_cause(PYTHON_TRACE) == "ValueError: invalid literal for int() with base 10: 'five'"


def test_a_jvm_trace_starting_with_its_exception_gives_that_line_with_the_short_name():
    trace = (
        "org.apache.spark.sql.AnalysisException: [PATH_NOT_FOUND] Path does not exist: "
        "file:/lake/silver/feedback.   \n"
        "\tat org.apache.spark.sql.errors.QueryCompilationErrors$.dataPathNotExistError"
        "(QueryCompilationErrors.scala:1500)\n"
    )
    assert root_cause(trace) == (
        "AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/lake/silver/feedback."
    )


def test_the_last_of_several_exception_lines_is_taken():
    text = "KafkaException: broker down\nretrying\n  KafkaError: _TRANSPORT: connection refused\n"
    assert root_cause(text) == "KafkaError: _TRANSPORT: connection refused"


def test_a_plain_message_gives_its_first_line():
    assert root_cause("[USER_RAISED_EXCEPTION] bad record SQLSTATE: P0001") == (
        "[USER_RAISED_EXCEPTION] bad record SQLSTATE: P0001"
    )
    assert root_cause("\n  the broker went away\nretrying in 5 s\n") == "the broker went away"
    # "error:" in lower case after a word is not an exception name
    assert root_cause("write error: disk full\nmore") == "write error: disk full"


def test_empty_or_blank_text_gives_empty_text():
    assert root_cause("") == ""
    assert root_cause("  \n ") == ""


def test_a_bad_setting_is_an_afl_error():
    assert issubclass(SettingsError, AflError) and issubclass(AflError, Exception)
