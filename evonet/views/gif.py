"""Animated GIFs written frame by frame, in memory that does not grow with their length.

:func:`record` is the one recorder of ``evonet watch --record``: it takes frames from any
game (Snake's board or a Gymnasium environment's pictures, with the network panel),
scales them, draws them in one palette and streams them into a file that replaces the
destination only when complete.

Pillow's ``save_all`` keeps every frame until the end; a recording of a few thousand
moves then needs gigabytes. :class:`GifStream` writes each frame as it arrives and keeps
only the previous one. Frames are palette indices ``(H, W)`` under one global palette;
:class:`PaletteMap` turns RGB frames into those indices through a lookup table. Pillow
still does the LZW coding (its GIF header and frame-block helpers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from evonet.storage.archive import atomic_write

# The palette policy of every recording: up to 255 colours taken from the first frame
# (plus any colours the caller says will appear later), index 255 meaning "unchanged
# since the last frame".
MAX_COLOURS = 255  # drawn colours at most; one more index is left for "transparent"
RGBX_SHIFTS = (0, 8, 16)  # bit offsets of red, green, blue in a little-endian RGBX pixel
# GIF frame times are whole hundredths of a second, and browsers show anything shorter
# than 2/100 s at 10 frames per second: a faster recording would play slower.
MAX_FPS = 50.0

# Pillow maps a colour to a palette index through a cache of 64 x 64 x 64 cells (the top
# six bits of each channel): every colour in a cell gets that cell's index. A table with
# one entry per cell, filled by Pillow itself, therefore reproduces Image.quantize exactly.
_BITS = 6
_CELLS = 1 << (3 * _BITS)


class PaletteMap:
    """RGB colours to indices of a fixed palette, as ``Image.quantize(palette=...)`` would
    map them without dithering, but by one table lookup per pixel.

    Args:
        palette: the palette colours ``(n, 3)`` uint8, ``n <= 256``.
    """

    def __init__(self, palette: np.ndarray) -> None:
        from PIL import Image

        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        if not 1 <= len(palette) <= 256:
            raise ValueError(f"a GIF palette has 1 to 256 colours, got {len(palette)}")
        self.palette = palette
        step = 1 << (8 - _BITS)
        # One pixel per cache cell, red fastest: cell (r, g, b) is at r + 64 g + 4096 b.
        cell = np.arange(_CELLS, dtype=np.uint32)
        mask = (1 << _BITS) - 1
        rgb = np.stack([(cell >> (_BITS * c)) & mask for c in range(3)], axis=-1)
        rgb = (rgb * step).astype(np.uint8)  # each cell's lowest colour
        probe = Image.fromarray(rgb.reshape(1 << _BITS, -1, 3), "RGB")
        target = Image.new("P", (1, 1))
        target.putpalette(palette.tobytes())
        lut = probe.quantize(palette=target, dither=Image.Dither.NONE)
        self.lut = np.asarray(lut, dtype=np.uint8).reshape(-1)  # (64**3,) cell -> index
        if self.lut.max() >= len(palette):  # never expected; would corrupt the GIF
            raise RuntimeError("Pillow mapped a colour outside the palette")

    def indices_packed(self, pixels: np.ndarray, shifts: tuple[int, int, int]) -> np.ndarray:
        """Palette indices of packed 32-bit pixels.

        Args:
            pixels: ``(...)`` uint32, each pixel's red, green and blue bytes at bit offsets
                ``shifts`` (as in a pygame surface's ``get_shifts()[:3]``).
        Returns:
            ``(...)`` uint8 indices, laid out like ``pixels``.
        """
        drop = 8 - _BITS
        key = np.zeros(pixels.shape, dtype=np.uint32)
        for c, shift in enumerate(shifts):
            part = pixels >> np.uint32(shift + drop)
            part &= np.uint32((1 << _BITS) - 1)
            if c:
                part <<= np.uint32(_BITS * c)
            key |= part
        return self.lut.take(key)

    def indices(self, rgb: np.ndarray) -> np.ndarray:
        """Palette indices ``(H, W)`` uint8 of an RGB image ``(H, W, 3)`` uint8."""
        rgb = np.asarray(rgb, dtype=np.uint8)
        packed = np.zeros(rgb.shape[:-1], dtype=np.uint32)
        for c in range(3):
            packed |= rgb[..., c].astype(np.uint32) << np.uint32(8 * c)
        return self.indices_packed(packed, (0, 8, 16))


class GifStream:
    """Writes an animated GIF to an open binary file one frame at a time.

    Frames arrive as packed RGB pixels and are drawn with the colours of ``colours``. The
    first frame is stored whole; every later frame stores only the pixels whose palette
    index changed since the frame before, cropped to their bounding box, every other pixel
    transparent and the frame drawn over the previous one (disposal 1). Only the previous
    frame is kept, so memory does not depend on the number of frames. Call :meth:`close`
    to end the file (it does not close ``f``).

    Args:
        f: a binary file open for writing.
        colours: the global palette and how colours map onto it; no colour may map to
            ``transparent``.
        transparent: palette index meaning "unchanged since the last frame".
        duration_cs: how long each frame shows, in hundredths of a second (GIF's unit).
        loop: times to repeat; 0 loops forever.
    """

    def __init__(
        self,
        f: BinaryIO,
        colours: PaletteMap,
        transparent: int,
        duration_cs: int,
        loop: int = 0,
    ) -> None:
        n = len(colours.palette)
        if not n <= transparent < 256:
            raise ValueError(f"transparent index {transparent} must be in {n}..255")
        if not 0 <= duration_cs < 1 << 16:
            raise ValueError(f"frame duration {duration_cs} cs is outside 0..65535")
        # The colour table holds a power of two colours, at least up to `transparent`.
        size = 2
        while size <= transparent:
            size *= 2
        table = np.zeros((size, 3), dtype=np.uint8)
        table[:n] = colours.palette
        self.f, self.colours, self.table, self.transparent = f, colours, table, transparent
        self.duration_ms, self.loop = 10 * duration_cs, loop
        self.pixels: np.ndarray | None = None  # (H, W) uint32 of the last frame
        self.indices: np.ndarray | None = None  # (H, W) uint8, its palette indices
        self.frames = 0
        self.closed = False

    def add(self, pixels: np.ndarray, shifts: tuple[int, int, int]) -> None:
        """Append one frame: packed pixels ``(H, W)`` uint32 (see
        :meth:`PaletteMap.indices_packed` for ``shifts``); every frame the same size."""
        from PIL import GifImagePlugin, Image

        if self.closed:
            raise ValueError("the GIF is already closed")
        if pixels.ndim != 2 or 0 in pixels.shape or max(pixels.shape) >= 1 << 16:
            raise ValueError(f"a GIF frame is (H, W) with sides 1..65535, got {pixels.shape}")
        timing = {"duration": self.duration_ms, "disposal": 1}  # draw over the last frame
        if self.pixels is None or self.indices is None:
            indices = self.colours.indices_packed(pixels, shifts)
            first = Image.fromarray(indices, "P")
            first.putpalette(self.table.tobytes())
            header, _ = GifImagePlugin.getheader(first, None, {"loop": self.loop, **timing})
            self._write(header)
            self._write(GifImagePlugin.getdata(first, (0, 0), **timing))
            self.pixels, self.indices = pixels.copy(), indices
            self.frames += 1
            return
        if pixels.shape != self.pixels.shape:
            raise ValueError(f"frame size {pixels.shape} != first {self.pixels.shape}")
        # Map only the pixels whose colour changed (a few percent of a frame), then keep
        # those whose palette index changed too.
        where = np.flatnonzero(pixels != self.pixels)
        new = self.colours.indices_packed(pixels.reshape(-1).take(where), shifts)
        old = self.indices.reshape(-1).take(where)
        where, new = where[new != old], new[new != old]
        self.pixels = pixels.copy()
        self.indices.reshape(-1)[where] = new
        width = pixels.shape[1]
        rows, cols = np.divmod(where, width)
        if where.size:
            top, left = int(rows.min()), int(cols.min())
            bottom, right = int(rows.max()) + 1, int(cols.max()) + 1
        else:  # nothing changed: one transparent pixel keeps one frame per call
            top, left, bottom, right = 0, 0, 1, 1
        # Unchanged pixels are transparent: long transparent runs compress to almost
        # nothing, so a frame costs about what changed.
        delta = np.full((bottom - top, right - left), self.transparent, dtype=np.uint8)
        delta[rows - top, cols - left] = new
        frame = Image.fromarray(delta, "P")
        self._write(
            GifImagePlugin.getdata(frame, (left, top), transparency=self.transparent, **timing)
        )
        self.frames += 1

    def close(self) -> None:
        """Write the GIF trailer. Needs at least one frame."""
        if self.closed:
            return
        if self.pixels is None:
            raise ValueError("a GIF needs at least one frame")
        self.f.write(b";")
        self.closed = True

    def _write(self, blocks: list[bytes]) -> None:
        for block in blocks:
            self.f.write(block)


Frame = tuple[np.ndarray, int, int]
"""A picture, the episode it shows and the move within it (0 for the episode's start). The
picture is ``(H, W, 3)`` uint8 RGB, or already packed ``(H, W)`` uint32 RGBX bytes (see
:data:`RGBX_SHIFTS`), as a pygame surface gives it without a copy."""


def palette(
    first: np.ndarray, later: np.ndarray | None = None, colours: int = MAX_COLOURS
) -> np.ndarray:
    """A recording's palette ``(n, 3)`` uint8, ``n <= colours``: the colours ``later``
    ``(k, 3)`` exactly (colours known to appear: a neuron that lights up later, a game's
    own flat colours, which a small apple would otherwise lose to its neighbours), then
    the first frame's ``(H, W, 3)`` in the entries left."""
    from PIL import Image

    exact = np.zeros((0, 3), np.uint8)
    if later is not None and len(later):
        exact = np.unique(np.asarray(later, np.uint8).reshape(-1, 3), axis=0)[:colours]
    room = colours - len(exact)
    if room <= 0:
        return exact
    # No dithering: flat colours compress far better.
    source = np.asarray(first, dtype=np.uint8)
    quantized = Image.fromarray(source).quantize(room, dither=Image.Dither.NONE)
    found = np.array(quantized.getpalette(), np.uint8).reshape(-1, 3)[:room]
    return np.concatenate([exact, found])


def packed(picture: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """A picture (see :data:`Frame`) resized by ``scale`` (each side at least one pixel) as
    packed pixels ``(h, w)`` uint32, RGBX bytes (see :data:`RGBX_SHIFTS`)."""
    from PIL import Image

    if picture.ndim == 2 and scale == 1:
        return picture  # packed already: converting every frame would cost most of a GIF
    rgb = packed_rgb(picture) if picture.ndim == 2 else picture[..., :3]
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    if scale != 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    rgbx = np.asarray(image.convert("RGBX"))
    return rgbx.view("<u4").reshape(rgbx.shape[:2])


def record(
    path: str | os.PathLike,
    frames: Iterable[Frame],
    fps: float,
    scale: float = 1.0,
    later_colours: np.ndarray | None = None,
    on_frame: Callable[[int, int], object] | None = None,
    colours: int = MAX_COLOURS,
) -> int:
    """Write ``frames`` into an animated GIF at ``path``; returns the number written.

    Each frame is resized by ``scale`` and shows for ``round(100 / fps)`` hundredths of a
    second (GIF's time unit; at least 1). The palette, at most ``colours`` colours (a
    flat-shaded picture needs few, and fewer make a smaller file), comes from the first
    frame and ``later_colours`` (:func:`palette`). Frames go to the file as they come
    (memory does not grow with the recording), into a temporary file beside ``path``
    that replaces it only when complete: an interruption (Ctrl-C, or a signal raised as
    one) leaves ``path`` as it was and no temporary. ``on_frame(episode, step)`` follows each frame.
    """
    if not (fps > 0 and scale > 0 and 1 <= colours <= MAX_COLOURS):
        raise ValueError(f"bad recording settings: {fps=}, {scale=}, {colours=}")
    written = 0

    def write(f: BinaryIO) -> None:
        nonlocal written
        gif: GifStream | None = None
        for picture, episode, step in frames:
            pixels = packed(picture, scale)
            if gif is None:  # the palette comes from the first frame
                mapping = PaletteMap(palette(packed_rgb(pixels), later_colours, colours))
                # The first index after the drawn colours means "unchanged".
                gif = GifStream(f, mapping, colours, max(1, round(100 / fps)))
            gif.add(pixels, RGBX_SHIFTS)
            if on_frame is not None:
                on_frame(episode, step)
        if gif is None:
            raise ValueError("a recording needs at least one frame")
        gif.close()
        written = gif.frames

    atomic_write(Path(path), write)
    return written


def packed_rgb(pixels: np.ndarray) -> np.ndarray:
    """Packed RGBX pixels ``(H, W)`` uint32 as an RGB picture ``(H, W, 3)`` uint8."""
    h, w = pixels.shape
    return pixels.view(np.uint8).reshape(h, w, 4)[..., :3]
