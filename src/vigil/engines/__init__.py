"""SQL engines that run vigil's detections as functions, where the logs already are."""
