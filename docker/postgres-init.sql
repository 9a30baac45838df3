-- One server, two databases: the legacy agent app's and Dagster's own storage.
CREATE DATABASE dagster OWNER afl;
