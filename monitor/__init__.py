"""People analytics on the control centre's cameras (issue 23): person detection and counting,
tracking, and the zone rules (intrusion, loitering, crowd density). A runtime package like `lpr/`:
it stands only on `anpr_core`."""
