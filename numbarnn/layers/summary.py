"""``Sequential.summary``: the table tf-keras prints for a sequential model, laid out
the same way (column positions, wrapped cells, separator lines, memory sizes)."""
import re

import numpy as np

__all__ = ["print_summary"]

_BREAK_AFTER = ("),", "},", "],", "',")  # a long cell wraps after one of these


def _readable_size(n_bytes):
    size = float(n_bytes)
    for unit in ("Byte", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _count_and_bytes(weights):
    unique = {id(w): w for w in weights}.values()
    count = sum(int(np.prod(w.shape)) for w in unique)
    return count, sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in unique)


def _row_lines(cells, positions, depth=0):
    """The printed lines of one table row: each cell fills its column (less two spaces
    of gap, and one more, except in the last column) and wraps onto further lines,
    breaking after a closing bracket or quote where it can."""
    rest = [str(c) for c in cells]
    lines = []
    last = len(positions) - 1
    while any(rest):
        line = ""
        for col, text in enumerate(rest):
            width = positions[col] - (positions[col - 1] if col else 0)
            gap = 0 if col == last else 2
            room = width - gap - (0 if col == last else 1) - (depth if col == 0 else 0)
            if text and room < 1:  # tf-keras loops forever, its lines growing
                raise ValueError(
                    f"`positions` leave column {col} of the summary no room for its text "
                    f"({width} characters wide at most). They must increase, each column "
                    f"a few characters wider than its gap. Received: positions="
                    f"{positions}")
            piece = text[:room]
            breaks = [piece.find(b) + len(b) for b in _BREAK_AFTER if b in piece]
            if breaks:
                room = min(breaks)
                piece = piece[:room]
            if col == 0:
                line += "|" * depth + " "
            line += piece + " " * gap
            rest[col] = text[room:]
            pad_to = positions[col] - (depth if depth and col == last else 0)
            line += " " * (pad_to - len(line))
        lines.append(line + "|" * depth)
    return lines


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    names = [layer.name for layer in layers]
    first = [i for i, n in enumerate(names) if re.match(layer_range[0], n)]
    last = [i for i, n in enumerate(names) if re.match(layer_range[1], n)]
    if not first or not last:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    return first[0], last[-1] + 1


def print_summary(model, output_shapes, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False, layer_range=None):
    """Print ``model``'s table; ``output_shapes`` maps each layer (by ``id``) to the
    shape shown (a string for one that is unknown)."""
    line_length = line_length or 65
    print_fn = print_fn or print
    positions = list(positions or [0.45, 0.85, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if any(b <= a for a, b in zip([0] + positions, positions)):
        # every column holds a header: tf-keras loops forever on one of no width
        raise ValueError("`positions` must increase from above 0 (fractions of "
                         "`line_length` or column ends in characters). Received: "
                         f"positions={positions}")
    header = ["Layer (type)", "Output Shape", "Param #"]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")

    def emit(layer, depth, last_in_group):
        params = layer.count_params() if layer.built else "0 (unused)"
        cells = [f"{layer.name} ({type(layer).__name__})",
                 output_shapes.get(id(layer), "multiple"), params]
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        for line in _row_lines(cells, positions, depth):
            print_fn(line)
        inner = getattr(layer, "layers", None)
        if expand_nested and inner:
            print_fn("|" * (depth + 1) + "\u00af" * (line_length - 2 * depth - 2)
                     + "|" * (depth + 1))
            for i, sub in enumerate(inner):
                emit(sub, depth + 1, i == len(inner) - 1)
            print_fn("|" * depth + "\u00af" * (line_length - 2 * depth) + "|" * depth)
            return  # tf-keras prints no separator after an expanded model
        if not last_in_group:
            print_fn("|" * depth + " " * (line_length - 2 * depth) + "|" * depth)

    start, stop = _layer_range(model.layers, layer_range)  # before any line, as tf-keras
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    for line in _row_lines(header, positions):
        print_fn(line)
    print_fn("=" * line_length)
    for layer in model.layers[start:stop]:
        emit(layer, 0, False)
    print_fn("=" * line_length)
    trainable, trainable_bytes = _count_and_bytes(model.trainable_weights)
    frozen, frozen_bytes = _count_and_bytes(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + frozen} "
             f"({_readable_size(trainable_bytes + frozen_bytes)})")
    print_fn(f"Trainable params: {trainable} ({_readable_size(trainable_bytes)})")
    print_fn(f"Non-trainable params: {frozen} ({_readable_size(frozen_bytes)})")
    print_fn("_" * line_length)
