"""The variables a file's values go to, and assigning them all or none."""
__all__ = ["own_variables", "check_pairs", "assign_all"]


def own_variables(layer):
    """tf-keras's Layer.save_own_variables order: the trainable, then the other
    Variables of the layer itself, those put in its lists and dicts included (tf-keras
    appends those to its own)."""
    trainable, frozen = layer._own_weights()
    return trainable + frozen


def check_pairs(pairs):
    for variable, value in pairs:
        if value.shape != variable.shape:
            raise ValueError(f"Cannot assign value to variable '{variable.name}': Shape "
                             f"mismatch. The variable shape {variable.shape}, and the "
                             f"assigned value shape {value.shape} are incompatible.")
        if value.dtype.kind not in "biuf":
            raise ValueError(f"The file's value for variable {variable.name!r} is not "
                             f"numeric (dtype {value.dtype}).")


def assign_all(pairs):
    """Assign only once every value has been read and checked: a failed load changes
    nothing."""
    for variable, value in pairs:
        variable.assign(value.astype(variable.dtype, copy=False))
