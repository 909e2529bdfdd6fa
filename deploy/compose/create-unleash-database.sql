-- Run once by the postgres image on an empty data directory: Unleash keeps its own database.
CREATE DATABASE unleash;
