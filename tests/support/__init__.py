"""What tests share: service fixtures (a pytest plugin), builders and readers of lakes,
Kafka helpers, stream runners, generated hostile input, a fake judge server.

Plain modules imported by tests; fixtures reach tests through ``pytest_plugins`` in the
root conftest, never by importing a conftest.
"""
