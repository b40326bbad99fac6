"""Full-frame anonymization: annotation readers, window geometry, GAN and traditional methods, stitching."""
