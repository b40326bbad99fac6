"""Data preprocessing: Cityscapes + CityPersons to training crops (the synthetic street data is ``synthetic``)."""
