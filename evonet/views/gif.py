"""Animated GIFs written frame by frame, in memory that does not grow with their length.

Pillow's ``save_all`` keeps every frame until the end; a recording of a few thousand
moves then needs gigabytes. :class:`GifStream` writes each frame as it arrives and keeps
only the previous one. Frames are palette indices ``(H, W)`` under one global palette;
:class:`PaletteMap` turns RGB frames into those indices through a lookup table. Pillow
still does the LZW coding (its GIF header and frame-block helpers).
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

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
