"""Synthetic street data: procedural street frames with pedestrians in the Cityscapes/CityPersons layout, so
everything runs without Cityscapes access (``python -m synthetic.make_demo_data``).

``scene`` draws the street, ``person`` the people, ``drawing`` the supersampled sprites both use, ``frame`` plans and
renders one frame with exact boxes, ``make_demo_data`` writes a dataset.
"""
