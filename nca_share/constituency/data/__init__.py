"""Packaged data of the constituency package (the basisscan questionnaire, TOML)."""
