-- Version 5: repos.classification holds a versioned classification
-- document (package internal/classdoc, {"version": 1, ...}) instead of
-- rewrite.Result's JSON, so refactoring detection's types no longer changes
-- stored data. The conversion of existing rows is Go code run in this
-- migration's transaction (convertClassifications); the table is unchanged.
SELECT 1;
