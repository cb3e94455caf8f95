"""The streaming GIF writer: exact palette mapping, delta frames, one frame per call."""

import io

import numpy as np
import pytest
from PIL import Image, ImageSequence

from evonet.views.gif import GifStream, PaletteMap

PALETTE = np.array(
    [[0, 0, 0], [255, 255, 255], [200, 30, 40], [20, 180, 60], [66, 165, 245], [255, 152, 0]],
    dtype=np.uint8,
)
TRANSPARENT = 7


def pack(rgb):
    """``(H, W, 3)`` uint8 -> ``(H, W)`` uint32 with red, green, blue at bits 0, 8, 16."""
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] | rgb[..., 1] << 8 | rgb[..., 2] << 16


def test_palette_map_agrees_with_pillow_quantize(rng):
    colours = rng.integers(0, 256, size=(64, 80, 3), dtype=np.uint8)
    colours[0, : len(PALETTE)] = PALETTE  # exact palette colours map to themselves
    target = Image.new("P", (1, 1))
    target.putpalette(PALETTE.tobytes())
    expected = Image.fromarray(colours).quantize(palette=target, dither=Image.Dither.NONE)
    got = PaletteMap(PALETTE).indices(colours)
    assert np.array_equal(got, np.asarray(expected))
    assert np.array_equal(got[0, : len(PALETTE)], np.arange(len(PALETTE)))
    # Packed pixels with other byte positions (as a pygame surface may have) agree too.
    bgr = pack(colours[..., ::-1])
    assert np.array_equal(PaletteMap(PALETTE).indices_packed(bgr, (16, 8, 0)), got)


def frames_from(data):
    """Every frame of a GIF as composited RGB ``(H, W, 3)``, with its duration and the
    region ``(x0, y0, x1, y1)`` stored for it."""
    out = []
    with Image.open(io.BytesIO(data)) as im:
        for frame in ImageSequence.Iterator(im):
            extent = frame.tile[0][1]  # read before load() clears it
            out.append((np.asarray(frame.convert("RGB")), frame.info["duration"], extent))
    return out


def test_stream_round_trips_frames_as_cropped_deltas():
    h, w = 20, 30
    indices = np.zeros((4, h, w), dtype=np.int64)
    indices[0, 5:9, 3:6] = 2
    indices[1] = indices[0]
    indices[1, 10:12, 20:25] = 3  # one small change
    indices[2] = indices[1]  # no change at all: still one frame
    indices[3] = 4  # everything changes
    buf = io.BytesIO()
    gif = GifStream(buf, PaletteMap(PALETTE), TRANSPARENT, duration_cs=4)
    for frame in indices:
        gif.add(pack(PALETTE[frame]), (0, 8, 16))
    gif.close()
    assert gif.frames == 4 and buf.getvalue()[:6] == b"GIF89a" and buf.getvalue()[-1:] == b";"
    frames = frames_from(buf.getvalue())
    assert len(frames) == 4
    for (rgb, duration, _), want in zip(frames, indices, strict=True):
        assert np.array_equal(rgb, PALETTE[want]) and duration == 40
    extents = [extent for *_, extent in frames]
    assert extents[0] == (0, 0, w, h)  # the first frame whole
    assert extents[1] == (20, 10, 25, 12)  # then only the changed box
    assert extents[2] == (0, 0, 1, 1)  # a transparent pixel
    assert extents[3] == (0, 0, w, h)


def test_stream_loops_forever_and_refuses_mismatched_frames():
    buf = io.BytesIO()
    gif = GifStream(buf, PaletteMap(PALETTE), TRANSPARENT, duration_cs=10)
    with pytest.raises(ValueError, match="at least one frame"):
        gif.close()
    gif.add(np.zeros((3, 4), np.uint32), (0, 8, 16))
    with pytest.raises(ValueError, match="frame size"):
        gif.add(np.zeros((4, 3), np.uint32), (0, 8, 16))
    gif.close()
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.info["loop"] == 0 and im.n_frames == 1
    with pytest.raises(ValueError, match="transparent"):
        GifStream(io.BytesIO(), PaletteMap(PALETTE), 3, duration_cs=10)  # a real colour
