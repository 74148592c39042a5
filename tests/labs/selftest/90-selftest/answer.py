# TODO: make add() add.
def add(a, b):
    return 0


def work():
    return None


def slice(guest):
    return 0
