"""Django's PostgreSQL backend with Renkei's additions: a cheaper health check and psycopg's C
timestamp loader (ADR 0062), and work run in the transaction just before COMMIT (ADR 0066).

`DATABASES[...]["ENGINE"]` names this package (renkei.settings); everything else is Django's.
"""
