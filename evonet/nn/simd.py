"""A block of a dense layer's outputs as explicit SIMD vectors, for compiled forward passes.

:func:`dense_block` is an intrinsic: code that numba compiles into its caller as LLVM vector
instructions. Written as numba loops, a layer of 16 outputs ran its four-input steps through
a loop over outputs that the compiler re-entered, re-checked for overlapping arrays and
stored to memory at every step, a few outputs at a time. Here the outputs' running sums are
vectors that stay in registers for the whole pass over the inputs.

A call computes up to a few inputs (rows) through the same weights at once: one genome's
games, in a rollout. They share the weight loads, and their independent sums keep the
processor busy while each sum waits on its last addition. Every input is summed in its
written order (float64 products, no multiply and add fused), so a row's result is the same
bit for bit whatever the rows beside it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

I64 = ir.IntType(64)
F64 = ir.DoubleType()

# Outputs per vector of running sums: 8 float64 fill one AVX-512 register or two AVX ones.
LANES = 8


@intrinsic
def dense_block(typingctx, theta, pos, a, b, o0, inputs, z, width, rows):  # noqa: ARG001
    """``z[r, o0 : o0 + width]`` = bias + weights times ``inputs[r, :a]`` for each row
    ``r < rows``, for the layer whose ``(a, b)`` weights (input-major) and ``(b,)`` bias
    start at ``theta[pos]``; ``theta`` ``(D,)`` float32 or float64 and C-contiguous,
    ``inputs`` and ``z`` 2-D float64 with contiguous rows. ``width`` and ``rows`` are
    literal ints; ``width`` 0 means the last ``b - o0`` outputs, fewer than :data:`LANES`
    (one block of each width from 1 to 7 is compiled, picked when run). float32 weights
    are widened exactly, so either gives the same results.

    Each output sums, from its bias, the inputs four at a time as ``(x0 w0 + x1 w1) +
    (x2 w2 + x3 w3)``, then the last ``a % 4`` one at a time. The rows share every
    weight load and are independent chains of sums that the processor overlaps; a row's
    numbers do not depend on the other rows or on ``rows``. Loads only the weights of the
    block (no read past ``theta``'s block, whatever ``width``)."""
    if not isinstance(width, types.IntegerLiteral) or not isinstance(rows, types.IntegerLiteral):
        return None
    n, m = width.literal_value, rows.literal_value
    sig = types.void(theta, pos, a, b, o0, inputs, z, width, rows)

    def codegen(context, builder, signature, args):
        arrays = [context.make_array(signature.args[k])(context, builder, args[k])
                  for k in (0, 5, 6)]  # fmt: skip
        pos, a, b, o0 = (_i64(builder, v) for v in args[1:5])
        wide = signature.args[0].dtype == types.float64
        rows_of = [_rows(builder, arrays[k], m) for k in (1, 2)]

        def emit(w: int) -> None:
            _block(Block(builder, arrays[0].data, w, wide), rows_of, pos, a, b, o0)

        if n:
            emit(n)
            return context.get_dummy_value()
        done = builder.append_basic_block("rest_done")
        switch = builder.switch(builder.sub(b, o0), done)
        for w in range(1, LANES):
            case = builder.append_basic_block(f"rest_{w}")
            switch.add_case(ir.Constant(I64, w), case)
            builder.position_at_end(case)
            emit(w)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return sig, codegen


def _rows(builder: ir.IRBuilder, array, m: int) -> list[ir.Value]:
    """Pointers to the first ``m`` rows of a 2-D float64 array."""
    stride = builder.sdiv(builder.extract_value(array.strides, 0), ir.Constant(I64, 8))
    return [builder.gep(array.data, [builder.mul(stride, ir.Constant(I64, r))]) for r in range(m)]


def _block(block: Block, rows: list, pos: ir.Value, a: ir.Value, b: ir.Value,
           o0: ir.Value) -> None:  # fmt: skip
    """The code of one block (see :func:`dense_block`); ``rows`` the inputs' and the
    outputs' row pointers."""
    builder = block.builder
    bias = block.weights(builder.add(builder.add(pos, builder.mul(a, b)), o0))
    sums = [block.sums(bias) for _ in rows[0]]
    first = builder.add(pos, o0)  # where input 0's weights of the block start

    def row(i: ir.Value) -> ir.Value:
        return builder.add(first, builder.mul(i, b))

    groups = builder.sdiv(a, ir.Constant(I64, 4))
    with cgutils.for_range(builder, groups) as loop:
        i = builder.mul(loop.index, ir.Constant(I64, 4))
        weights = [block.weights(row(_plus(builder, i, k))) for k in range(4)]
        for x, slots in zip(rows[0], sums, strict=True):
            terms = [block.times(_load(builder, x, _plus(builder, i, k)), weights[k])
                     for k in range(4)]  # fmt: skip
            pair = [block.add(terms[0], terms[1]), block.add(terms[2], terms[3])]
            block.accumulate(slots, block.add(*pair))
    with cgutils.for_range_slice(builder, builder.mul(groups, ir.Constant(I64, 4)), a,
                                 ir.Constant(I64, 1), inc=True) as (i, _):  # fmt: skip
        weights = block.weights(row(i))
        for x, slots in zip(rows[0], sums, strict=True):
            block.accumulate(slots, block.times(_load(builder, x, i), weights))
    for z, slots in zip(rows[1], sums, strict=True):
        block.store(slots, z, o0)


class Block:
    """The vectors of one block of ``n`` outputs: ``n // LANES`` full ones and a last one
    of ``n % LANES`` lanes (LLVM splits it into loads that stay inside the block)."""

    def __init__(self, builder: ir.IRBuilder, theta: ir.Value, n: int, wide: bool) -> None:
        self.builder, self.theta, self.wide = builder, theta, wide
        self.widths = [LANES] * (n // LANES) + ([n % LANES] if n % LANES else [])

    def weights(self, at: ir.Value) -> list[ir.Value]:
        """The weights ``theta[at : at + n]`` as float64 vectors."""
        out, offset = [], 0
        for w in self.widths:
            vf = ir.VectorType(F64 if self.wide else ir.FloatType(), w)
            p = self.builder.gep(self.theta, [_plus(self.builder, at, offset)])
            loaded = self.builder.load(self.builder.bitcast(p, vf.as_pointer()), align=4)
            out.append(loaded if self.wide else self.builder.fpext(loaded, ir.VectorType(F64, w)))
            offset += w
        return out

    def sums(self, start: list[ir.Value]) -> list[ir.Value]:
        """Running sums (stack slots the compiler keeps in registers), set to ``start``."""
        slots = []
        for v in start:
            slot = cgutils.alloca_once(self.builder, v.type)
            self.builder.store(v, slot)
            slots.append(slot)
        return slots

    def times(self, x: ir.Value, weights: list[ir.Value]) -> list[ir.Value]:
        """``x`` times the vectors ``weights``."""
        out = []
        for v in weights:
            w = v.type.count
            one = self.builder.insert_element(ir.Constant(v.type, ir.Undefined), x,
                                              ir.Constant(ir.IntType(32), 0))  # fmt: skip
            mask = ir.Constant(ir.VectorType(ir.IntType(32), w), [0] * w)
            out.append(self.builder.fmul(self.builder.shuffle_vector(one, one, mask), v))
        return out

    def add(self, p: list[ir.Value], q: list[ir.Value]) -> list[ir.Value]:
        return [self.builder.fadd(u, v) for u, v in zip(p, q, strict=True)]

    def accumulate(self, slots: list[ir.Value], term: list[ir.Value]) -> None:
        for slot, v in zip(slots, term, strict=True):
            self.builder.store(self.builder.fadd(self.builder.load(slot), v), slot)

    def store(self, slots: list[ir.Value], z: ir.Value, o0: ir.Value) -> None:
        """The sums into float64 ``z[o0 : o0 + n]``."""
        offset = 0
        for w, slot in zip(self.widths, slots, strict=True):
            p = self.builder.gep(z, [_plus(self.builder, o0, offset)])
            lanes = ir.VectorType(F64, w).as_pointer()
            self.builder.store(self.builder.load(slot), self.builder.bitcast(p, lanes), align=8)
            offset += w


def _i64(builder: ir.IRBuilder, v: ir.Value) -> ir.Value:
    return builder.sext(v, I64) if v.type.width < 64 else v


def _plus(builder: ir.IRBuilder, v: ir.Value, k: int) -> ir.Value:
    return builder.add(v, ir.Constant(I64, k)) if k else v


def _load(builder: ir.IRBuilder, p: ir.Value, i: ir.Value) -> ir.Value:
    """``p[i]`` as a float64."""
    x = builder.load(builder.gep(p, [i]))
    return x if x.type == F64 else builder.fpext(x, F64)
