-- Runs once, when the PostgreSQL volume is created: one role and one database each for Synapse
-- and Loket. The cluster is initialised with C collation (POSTGRES_INITDB_ARGS), as Synapse needs.
CREATE ROLE synapse LOGIN;
CREATE DATABASE synapse OWNER synapse TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE ROLE loket LOGIN;
CREATE DATABASE loket OWNER loket;
