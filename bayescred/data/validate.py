def validate(*a, **k):  # placeholder until the validation module lands
    raise NotImplementedError
