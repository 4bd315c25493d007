"""Judging: sklearn's reference, the results an example and a check hold, the readings and explanations behind a reason."""
