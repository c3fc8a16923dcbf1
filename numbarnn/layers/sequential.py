"""Sequential: a linear stack of layers with weights, config and a summary."""
import numpy as np

from ..engine.base_layer import Layer, _accepts
from ..engine import serialization

__all__ = ["Sequential"]


class Sequential(Layer):
    """A plain stack of layers, each feeding the next (tf-keras ``Sequential``).

    Parameters
    ----------
    layers : list of Layer, optional
    name : str, optional
    """

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._stack = []
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer):
        """Append a layer."""
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. "
                            f"Received: layer={layer} of type {type(layer)}.")
        if any(layer.name == l.name for l in self._stack):
            raise ValueError(f'All layers added to a Sequential model should have unique '
                             f'names. Name "{layer.name}" is already the name of a layer '
                             "in this model.")
        self._stack.append(layer)
        self._layers.append(layer)
        self.built = False

    def pop(self):
        layer = self._stack.pop()
        self._layers.remove(layer)
        return layer

    def build(self, input_shape=None):
        if input_shape is None:
            first = self._stack[0] if self._stack else None
            input_shape = getattr(first, "_batch_input_shape", None)
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
        shape = tuple(input_shape)
        for layer in self._stack:
            if not layer.built:
                layer(np.zeros(tuple(1 if d is None else d for d in shape),
                               layer.compute_dtype or "float32"))
            out = layer.compute_output_shape(shape)
            shape = tuple(out[0] if isinstance(out, list) else out)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._stack:
            kwargs = {}
            if _accepts(layer.call, "training"):
                kwargs["training"] = training
            if mask is not None and _accepts(layer.call, "mask"):
                kwargs["mask"] = mask
            out = layer(x, **kwargs)
            if mask is not None and getattr(layer, "supports_masking", False):
                mask = layer.compute_mask(x, mask)
            x = out
        return x

    def predict(self, x, batch_size=None, **kwargs):
        """Run the model over ``x`` in batches (``batch_size`` rows at a time)."""
        x = np.asarray(x)
        if not batch_size or batch_size >= len(x):
            return self(x, **kwargs)
        parts = [self(x[i:i + batch_size], **kwargs) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts)

    def reset_states(self):
        for layer in self._stack:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            out = layer.compute_output_shape(shape)
            shape = tuple(out[0]) if isinstance(out, list) else tuple(out)
        return shape

    def summary(self, print_fn=print, line_length=65):
        """Print a table of the layers, output shapes and parameter counts."""
        rows = []
        total = trainable = 0
        shape = getattr(self._stack[0], "_build_input_shape", None) if self._stack else None
        if isinstance(shape, list):
            shape = shape[0]
        for layer in self._stack:
            try:
                out = layer.compute_output_shape(shape) if shape is not None else "?"
                shape = tuple(out[0]) if isinstance(out, list) else tuple(out)
            except (NotImplementedError, TypeError, IndexError):
                out = "?"
            params = layer.count_params() if layer.built else 0
            total += params
            trainable += sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(out), str(params)))
        widths = (line_length * 45 // 100, line_length * 33 // 100, line_length * 22 // 100)
        line = "_" * line_length
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn("".join(h.ljust(w) for h, w in zip(
            ("Layer (type)", "Output Shape", "Param #"), widths)))
        print_fn("=" * line_length)
        for row in rows:
            print_fn("".join(c.ljust(w) for c, w in zip(row, widths)))
        print_fn("=" * line_length)
        print_fn(f"Total params: {total}")
        print_fn(f"Trainable params: {trainable}")
        print_fn(f"Non-trainable params: {total - trainable}")
        print_fn(line)

    def get_config(self):
        return {"name": self.name,
                "layers": [serialization.serialize(l) for l in self._stack]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = [serialization.deserialize(c, custom_objects=custom_objects)
                  for c in config.get("layers", [])]
        return cls(layers, name=config.get("name"))
