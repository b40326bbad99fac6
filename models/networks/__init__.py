"""Networks, losses, initialisation and schedulers of A-GAN (SPEC §4-§6)."""

from .discriminators import (
    IMAGE_D_NAMES,
    PERSON_D_MIN_SIDE,
    PERSON_D_NAMES,
    NLayerDiscriminator,
    PersonDiscriminator,
    PixelDiscriminator,
    define_D_image,
    define_D_person,
    pad_to_min_side,
    spatial_pyramid_max_pool,
)
from .generators import (
    NOISE_MODES,
    ChannelNoise,
    ResnetGenerator,
    UnetBlock,
    UnetGenerator,
    define_G,
    mask_channel,
)
from .init import count_parameters, get_norm_layer, init_weights
from .losses import (
    GAN_MODES,
    GANLoss,
    clip_gradients_,
    discriminator_accuracy,
    feature_matching_loss,
    gradient_penalty,
    masked_l1,
)
from .schedulers import LR_POLICIES, get_scheduler, linear_multiplier

__all__ = [
    "GAN_MODES",
    "IMAGE_D_NAMES",
    "LR_POLICIES",
    "NOISE_MODES",
    "PERSON_D_MIN_SIDE",
    "PERSON_D_NAMES",
    "ChannelNoise",
    "GANLoss",
    "NLayerDiscriminator",
    "PersonDiscriminator",
    "PixelDiscriminator",
    "ResnetGenerator",
    "UnetBlock",
    "UnetGenerator",
    "clip_gradients_",
    "count_parameters",
    "define_D_image",
    "define_D_person",
    "define_G",
    "discriminator_accuracy",
    "feature_matching_loss",
    "get_norm_layer",
    "get_scheduler",
    "gradient_penalty",
    "init_weights",
    "linear_multiplier",
    "mask_channel",
    "masked_l1",
    "pad_to_min_side",
    "spatial_pyramid_max_pool",
]
