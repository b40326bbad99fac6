"""Data preprocessing: Cityscapes + CityPersons to training crops, and synthetic demo data."""
