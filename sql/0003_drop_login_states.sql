-- Sign-ins in progress live in a sealed, browser-bound cookie (ADR 0009): anonymous requests write
-- nothing to the database, so the table of login states goes. A sign-in started before the upgrade
-- has to be started again.
DROP TABLE IF EXISTS login_states;
