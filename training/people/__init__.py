"""The person detector for the people analytics (issue 23): COCO YOLOv5n v6.1 exported to ONNX."""
