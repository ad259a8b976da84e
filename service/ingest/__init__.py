"""Data in: producers' events, platform pushes, files and the simulator become validated
catalogue events appended to the store."""
