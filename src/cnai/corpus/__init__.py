"""Training-data audit at corpus scale: readers, PI detectors, risk screening, sampling, source register."""
