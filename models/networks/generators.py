"""Generators: the U-Net with mask input, noise injection and difference-map variant, the ResNet G, and the
dilated inpainting G.

The U-Net's convolutions are 4x4/2/1 (transposed on the way up); ``upsample="resize"`` replaces each transposed
convolution by a nearest-neighbour 2x upsampling and a 3x3 convolution, whose outputs every input pixel reaches
evenly, so the decoder cannot paint the transposed convolution's uneven-overlap pattern (Odena, Dumoulin and Olah,
"Deconvolution and Checkerboard Artifacts", Distill 2016). The ResNet G is the classic pix2pix design.

``noise="latent"`` gives the U-Net one low-dimensional code per sample, appended at every decoder level: drawn from
N(0, I) when sampling, or given by an encoder in training (psgan ``--lambda_vae_L1``: the cVAE-GAN branch of
BicycleGAN, Zhu et al., "Toward Multimodal Image-to-Image Translation", NeurIPS 2017).

``inpaint`` is a generator built to fill holes rather than to translate images: two stride-2 steps down to a quarter
of the side, residual blocks of dilated 3x3 convolutions there (dilations 1, 2, 4, 8, 1, so the field of view
spans the whole 64 px crop while the features stay a 16 x 16 map, as in the completion network of Iizuka,
Simo-Serra and Ishikawa, "Globally and Locally Consistent Image Completion", SIGGRAPH 2017), then nearest-neighbour
upsampling with skips from the encoder. The U-Net squeezes a 64 px crop to a 1 x 1 code and must rebuild the
person's layout from it; here every output pixel keeps a spatial feature of its own neighbourhood and of the
silhouette it is told to fill.
"""

from __future__ import annotations

import torch
from torch import nn

from .init import conv_bias, get_norm_layer, init_weights

NOISE_MODES = ("none", "encoder_one", "encoder_all", "decoder", "latent")
UPSAMPLE_MODES = ("transpose", "resize")
UNET_DEPTHS = {"unet_64": 6, "unet_128": 7, "unet_256": 8}
RESNET_BLOCKS = {"resnet_6blocks": 6, "resnet_9blocks": 9}
INPAINT_GENERATOR = "inpaint"
GENERATOR_NAMES = (*UNET_DEPTHS, *RESNET_BLOCKS, INPAINT_GENERATOR)

NOISE_STD = 0.8
ENCODER_NOISE_CHANNELS = 8
DECODER_NOISE_CHANNELS_INNERMOST = 256
DECODER_NOISE_CHANNELS = 128
# The inpainting G's dilated residual blocks at a quarter of the side.
INPAINT_DILATIONS = (1, 2, 4, 8, 1)
INPAINT_NOISE_CHANNELS = 64
DIFF_MAP_EPS = 1e-6
# Size of the latent code of noise="latent" (BicycleGAN's nz).
LATENT_DIM = 8


def mask_channel(box_mask01: torch.Tensor) -> torch.Tensor:
    """The G input mask map: +1 outside the box, -1 inside, from a {0,1} mask that is 1 inside."""
    return 1.0 - 2.0 * box_mask01


class ChannelNoise(nn.Module):
    """Appends ``channels`` spatially constant maps, one N(0, 0.8^2) value per (sample, channel).

    Drawn from torch's global RNG on every call (test time too), so ``torch.manual_seed`` reproduces it.
    ``truncation`` (1 in training) scales the draws at sampling time: see ``set_noise_truncation``.
    """

    def __init__(self, channels: int, std: float = NOISE_STD) -> None:
        super().__init__()
        self.channels = channels
        self.std = std
        self.truncation = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        noise = torch.randn(n, self.channels, 1, 1, device=x.device, dtype=x.dtype) * (self.std * self.truncation)
        return torch.cat([x, noise.expand(n, self.channels, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, std={self.std}, truncation={self.truncation:g}"


class LatentChannels(nn.Module):
    """Appends the code ``UnetGenerator.forward`` set for the current call as spatially constant maps."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.code: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.code is None:
            raise RuntimeError("LatentChannels runs only inside UnetGenerator.forward, which sets its code")
        n, _, h, w = x.shape
        return torch.cat([x, self.code.to(x.dtype)[:, :, None, None].expand(n, self.channels, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


def set_noise_truncation(net: nn.Module, truncation: float) -> int:
    """Draw every noise input of ``net`` with ``truncation`` times its training spread; returns how many there are.

    The truncation trick of BigGAN / StyleGAN sampling (Brock et al. 2019; Karras et al. 2019), applied to this
    generator's noise inputs: below 1, samples lie nearer the noise's mean, trading diversity for typical outputs;
    0 removes the noise's randomness. The same draws are taken from the random stream, so a seed stays
    reproducible (docs/results/demo_model/truncation/README.md measures it on the shipped model).
    """
    if truncation < 0:
        raise ValueError(f"truncation {truncation:g}: must be >= 0")
    # A latent U-Net draws one code per sample for all its levels: one noise input.
    layers = [m for m in net.modules()
              if isinstance(m, ChannelNoise) or (isinstance(m, UnetGenerator) and m.latent_dim)]
    for layer in layers:
        layer.truncation = float(truncation)
    return len(layers)


def _noise_projection(channels: int, noise: nn.Module, noise_channels: int, bias: bool) -> nn.Sequential:
    """Decoder noise (or latent code): append it, then a plain 1x1 projection back to ``channels`` (no norm, no
    activation).

    The original uses a 1x1 ConvTranspose2d; a 1x1 Conv2d is the same map with the same parameter count
    (docs/differences_from_original.md#noise-projection).
    """
    return nn.Sequential(noise, nn.Conv2d(channels + noise_channels, channels, kernel_size=1, bias=bias))


def _down_conv(in_nc: int, out_nc: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)


def _up_conv(in_nc: int, out_nc: int, bias: bool, upsample: str) -> list[nn.Module]:
    """The layers that double the side: a 4x4/2/1 transposed convolution, or 2x nearest upsampling + 3x3 conv."""
    if upsample == "transpose":
        return [nn.ConvTranspose2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_nc, out_nc, kernel_size=3, padding=1, bias=bias)]


class UnetBlock(nn.Module):
    """One U-Net level wrapping ``submodule``.

    Path: [encoder noise] -> down -> submodule -> [decoder noise + 1x1 projection] -> up. Non-outermost
    blocks return ``cat(skip, up_output)``: the skip is the LeakyReLU-activated input (as the original's
    in-place activation makes it), or the raw noise-free input when encoder noise is injected.
    The outermost block returns the raw pre-tanh output.
    """

    ROLES = ("outermost", "intermediate", "innermost")

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        *,
        role: str,
        in_nc: int | None = None,
        submodule: nn.Module | None = None,
        norm: str = "batch",
        dropout: bool = False,
        noise: str = "none",
        upsample: str = "transpose",
    ) -> None:
        super().__init__()
        if role not in self.ROLES:
            raise ValueError(f"role {role!r} is not one of {self.ROLES}")
        if (submodule is None) != (role == "innermost"):
            raise ValueError("exactly the innermost block has no submodule")
        self.outermost = role == "outermost"
        in_nc = outer_nc if in_nc is None else in_nc
        bias = conv_bias(norm)
        norm_layer = get_norm_layer(norm)

        encoder_noise = noise == "encoder_all" or (noise == "encoder_one" and self.outermost)
        self.encoder_noise = ChannelNoise(ENCODER_NOISE_CHANNELS) if encoder_noise else None
        down_in = in_nc + (ENCODER_NOISE_CHANNELS if encoder_noise else 0)

        down: list[nn.Module] = [] if self.outermost else [nn.LeakyReLU(0.2)]
        down.append(_down_conv(down_in, inner_nc, bias))
        if role == "intermediate":
            down.append(norm_layer(inner_nc))
        self.down = nn.Sequential(*down)
        self.submodule = submodule

        # Channels entering the decoder side: the innermost's own bottleneck, else the sub-block's concat.
        up_in = inner_nc if role == "innermost" else 2 * inner_nc
        self.decoder_noise = None
        if noise == "decoder" and not self.outermost:
            innermost = role == "innermost"
            noise_channels = DECODER_NOISE_CHANNELS_INNERMOST if innermost else DECODER_NOISE_CHANNELS
            self.decoder_noise = _noise_projection(up_in, ChannelNoise(noise_channels), noise_channels, bias)
        elif noise == "latent" and not self.outermost:
            self.decoder_noise = _noise_projection(up_in, LatentChannels(LATENT_DIM), LATENT_DIM, bias)

        up: list[nn.Module] = [nn.ReLU(), *_up_conv(up_in, outer_nc, bias or self.outermost, upsample)]
        if not self.outermost:
            up.append(norm_layer(outer_nc))
        if dropout:
            up.append(nn.Dropout(0.5))
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.encoder_noise is not None:
            h = self.down(self.encoder_noise(x))
        elif self.outermost:
            h = self.down(x)
        else:
            # The original's LeakyReLU works in place on the block input, so its skip carries the activated
            # input; this matters to what the decoder-noise projection sees (with encoder noise the
            # activation acts on a new tensor and the skip keeps the raw input).
            x = self.down[0](x)
            h = self.down[1:](x)
        if self.submodule is not None:
            h = self.submodule(h)
        if self.decoder_noise is not None:
            h = self.decoder_noise(h)
        h = self.up(h)
        return h if self.outermost else torch.cat([x, h], dim=1)


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` downsamplings: input side must be divisible by 2**num_downs.

    ``input_nc`` already includes the mask channel when one is used. Returns tanh(raw), or with ``diff_map``
    the pair (tanh(d + atanh(x_rgb)), d) where d is the raw output and x_rgb the first ``output_nc`` inputs.
    With ``noise="latent"``, ``forward(x, latent)`` takes an N x LATENT_DIM code, or draws one from N(0, I) (times
    ``truncation``) from torch's global RNG when none is given.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        num_downs: int,
        ngf: int = 64,
        norm: str = "batch",
        use_dropout: bool = True,
        noise: str = "none",
        diff_map: bool = False,
        upsample: str = "transpose",
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be >= 5 (got {num_downs})")
        if noise not in NOISE_MODES:
            raise ValueError(f"noise {noise!r} is not supported; choose one of {', '.join(NOISE_MODES)}")
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample {upsample!r} is not supported; choose one of {', '.join(UPSAMPLE_MODES)}")
        if diff_map and input_nc < output_nc:
            raise ValueError("diff_map needs the first output_nc input channels to be the image")
        self.num_downs = num_downs
        self.output_nc = output_nc
        self.diff_map = diff_map
        self.latent_dim = LATENT_DIM if noise == "latent" else 0
        self.truncation = 1.0
        common = {"norm": norm, "noise": noise, "upsample": upsample}

        block = UnetBlock(ngf * 8, ngf * 8, role="innermost", **common)
        # Dropout only in the (num_downs - 5) 512->512 intermediate blocks.
        for _ in range(num_downs - 5):
            block = UnetBlock(ngf * 8, ngf * 8, role="intermediate", submodule=block, dropout=use_dropout,
                              **common)
        for mult in (4, 2, 1):
            block = UnetBlock(ngf * mult, ngf * mult * 2, role="intermediate", submodule=block, **common)
        self.model = UnetBlock(output_nc, ngf, role="outermost", in_nc=input_nc, submodule=block, **common)
        # Found once: every forward of a latent U-Net hands them the code.
        self.latent_layers = tuple(m for m in self.model.modules() if isinstance(m, LatentChannels))

    def forward(self, x: torch.Tensor, latent: torch.Tensor | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        factor = 2**self.num_downs
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"U-Net with {self.num_downs} downsamplings needs sides divisible by {factor}, "
                             f"got {tuple(x.shape[-2:])}")
        if latent is not None and not self.latent_dim:
            raise ValueError("this U-Net takes no latent code (built without noise='latent')")
        raw = self.model(x) if not self.latent_dim else self.run_with_latent(x, latent)
        if not self.diff_map:
            return torch.tanh(raw)
        # atanh(+-1) is infinite: clamp so saturated input pixels stay finite and trainable
        # (docs/differences_from_original.md#diff-map).
        rgb = x[:, : self.output_nc].clamp(-1 + DIFF_MAP_EPS, 1 - DIFF_MAP_EPS)
        return torch.tanh(raw + torch.atanh(rgb)), raw

    def run_with_latent(self, x: torch.Tensor, latent: torch.Tensor | None) -> torch.Tensor:
        """The raw output with one code per sample at every decoder level (drawn when ``latent`` is None)."""
        n = x.shape[0]
        if latent is None:
            latent = torch.randn(n, self.latent_dim, device=x.device, dtype=x.dtype) * self.truncation
        elif tuple(latent.shape) != (n, self.latent_dim):
            raise ValueError(f"latent code of shape {tuple(latent.shape)}; expected {(n, self.latent_dim)}")
        for layer in self.latent_layers:
            layer.code = latent
        try:
            return self.model(x)
        finally:
            for layer in self.latent_layers:
                layer.code = None

    def init_latent_projections(self) -> None:
        """Give the code's columns of each level's 1x1 projection unit-variance-preserving weights (std
        1/sqrt(LATENT_DIM)). At the general init's 0.02 a code barely moves G's features, so G learns to ignore
        it before the encoder can learn to use it (the posterior collapses to the prior: no diversity)."""
        for block in self.modules():
            if isinstance(block, UnetBlock) and block.decoder_noise is not None:
                projection = block.decoder_noise[1]
                with torch.no_grad():
                    projection.weight[:, -self.latent_dim:].normal_(0.0, self.latent_dim ** -0.5)

    def zero_init_output(self) -> None:
        """Zero the outermost up-convolution so d = 0 and the diff-map G starts as the identity."""
        last = self.model.up[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)


class ResnetBlock(nn.Module):
    """x + [reflect-pad, 3x3 conv, norm, ReLU, (dropout), reflect-pad, 3x3 conv, norm](x)."""

    def __init__(self, channels: int, norm: str, use_dropout: bool) -> None:
        super().__init__()
        bias = conv_bias(norm)
        norm_layer = get_norm_layer(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(channels),
            nn.ReLU(),
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """The pix2pix ResNet G: 7x7 stem, 2 stride-2 downs, ``n_blocks`` residual blocks, 2 ups."""

    def __init__(
        self, input_nc: int, output_nc: int, ngf: int = 64, norm: str = "batch", use_dropout: bool = False,
        n_blocks: int = 9,
    ) -> None:
        super().__init__()
        bias = conv_bias(norm)
        norm_layer = get_norm_layer(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), norm_layer(ngf), nn.ReLU(),
        ]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=bias),
                       norm_layer(ngf * mult * 2), nn.ReLU()]
        layers += [ResnetBlock(ngf * 4, norm, use_dropout) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       norm_layer(ngf * mult // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.model(x))


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(0.2)


class DilatedResidualBlock(nn.Module):
    """(x + [3x3 conv, dilation d, LeakyReLU, 3x3 conv](x)) / sqrt(2): the sum of two unit-variance paths is
    scaled back to unit variance, so a stack of blocks without normalisation neither grows nor vanishes."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation), _leaky(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)) * 0.5**0.5


class InpaintGenerator(nn.Module):
    """The dilated inpainting G (module docstring): input side divisible by 4, no normalisation layer.

    Without normalisation no batch statistic differs between training and sampling, and nothing subtracts the
    spatially constant noise a sample's person is drawn from (an instance norm would). ``noise="decoder"`` appends
    INPAINT_NOISE_CHANNELS fresh channel-noise maps (``ChannelNoise``) with a 1x1 projection before the dilated
    blocks and before each upsampling step.
    """

    def __init__(self, input_nc: int, output_nc: int, ngf: int = 64, noise: str = "none") -> None:
        super().__init__()
        problem = generator_problem(INPAINT_GENERATOR, noise)
        if problem:
            raise ValueError(problem)
        wide, widest = 2 * ngf, 4 * ngf

        def noise_input(channels: int) -> nn.Module:
            if noise == "none":
                return nn.Identity()
            return _noise_projection(channels, ChannelNoise(INPAINT_NOISE_CHANNELS), INPAINT_NOISE_CHANNELS, True)

        self.stem = nn.Sequential(nn.Conv2d(input_nc, ngf, 5, padding=2), _leaky())
        self.down1 = nn.Sequential(nn.Conv2d(ngf, wide, 3, stride=2, padding=1), _leaky())
        self.down2 = nn.Sequential(nn.Conv2d(wide, widest, 3, stride=2, padding=1), _leaky())
        self.middle = nn.Sequential(noise_input(widest), *(DilatedResidualBlock(widest, d) for d in INPAINT_DILATIONS))
        self.up1 = nn.Sequential(noise_input(widest), nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(widest, wide, 3, padding=1), _leaky())
        self.merge1 = nn.Sequential(nn.Conv2d(2 * wide, wide, 3, padding=1), _leaky())
        self.up2 = nn.Sequential(noise_input(wide), nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(wide, ngf, 3, padding=1), _leaky())
        self.merge2 = nn.Sequential(nn.Conv2d(2 * ngf, ngf, 3, padding=1), _leaky(),
                                    nn.Conv2d(ngf, output_nc, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"the {INPAINT_GENERATOR} generator needs sides divisible by 4, got {tuple(x.shape[-2:])}")
        full = self.stem(x)
        half = self.down1(full)
        h = self.middle(self.down2(half))
        h = self.merge1(torch.cat([self.up1(h), half], dim=1))
        h = self.merge2(torch.cat([self.up2(h), full], dim=1))
        return torch.tanh(h)

    def init_fan_in(self) -> None:
        """He initialisation for LeakyReLU(0.2) with zero biases, the output layer at 0.1 of it (G starts near
        grey): a 0.02-std init, which BatchNorm rescales in the other generators, would leave this one's signal
        vanishing through a dozen unnormalised layers."""
        convs = [m for m in self.modules() if isinstance(m, nn.Conv2d)]
        for conv in convs:
            nn.init.kaiming_normal_(conv.weight, a=0.2, nonlinearity="leaky_relu")
            nn.init.zeros_(conv.bias)
        with torch.no_grad():
            convs[-1].weight.mul_(0.1)


def generator_problem(netG: str, noise: str = "none", diff_map: bool = False, upsample: str = "transpose"
                      ) -> str | None:
    """Why ``define_G`` cannot build this generator, in one line, or None (option parsing reports it up front)."""
    if netG not in GENERATOR_NAMES:
        return f"generator {netG!r} is not supported; choose one of {', '.join(GENERATOR_NAMES)}"
    if netG in RESNET_BLOCKS and (noise != "none" or diff_map or upsample != "transpose"):
        return (f"{netG} supports neither noise injection, the difference map nor resize upsampling "
                f"(got noise={noise!r}, diff_map={diff_map}, upsample={upsample!r}); use a unet_* generator")
    if netG == INPAINT_GENERATOR and noise not in ("none", "decoder"):
        return f"the {INPAINT_GENERATOR} generator injects noise 'none' or 'decoder', not {noise!r}"
    if netG == INPAINT_GENERATOR and diff_map:
        return f"the {INPAINT_GENERATOR} generator has no difference map; use a unet_* generator"
    return None


def define_G(
    netG: str,
    input_nc: int = 3,
    output_nc: int = 3,
    ngf: int = 64,
    norm: str = "batch",
    use_dropout: bool = True,
    init_type: str = "normal",
    init_gain: float = 0.02,
    mask_input: bool = False,
    noise: str = "none",
    diff_map: bool = False,
    silhouette_input: bool = False,
    upsample: str = "transpose",
) -> nn.Module:
    """Build and initialise a generator. ``input_nc`` counts image channels only; the box mask adds one, and so
    does the silhouette of the person to paint (psgan ``--netG_silhouette_input``). ``upsample`` is the U-Net
    decoder's way up (``--netG_upsample``).

    No device placement or DataParallel: the caller owns devices.
    """
    problem = generator_problem(netG, noise, diff_map, upsample)
    if problem:
        raise ValueError(problem)
    in_nc = input_nc + (1 if mask_input else 0) + (1 if silhouette_input else 0)
    if netG in UNET_DEPTHS:
        net: nn.Module = UnetGenerator(in_nc, output_nc, UNET_DEPTHS[netG], ngf, norm, use_dropout, noise,
                                       diff_map, upsample)
    elif netG == INPAINT_GENERATOR:
        net = InpaintGenerator(in_nc, output_nc, ngf, noise)
    else:
        net = ResnetGenerator(in_nc, output_nc, ngf, norm, use_dropout, RESNET_BLOCKS[netG])
    init_weights(net, init_type, init_gain)
    if isinstance(net, InpaintGenerator):
        net.init_fan_in()  # its own scale: no norm layer rescales the general init
    if diff_map:
        net.zero_init_output()  # after the general init, which would overwrite it
    if noise == "latent":
        net.init_latent_projections()  # likewise
    return net
