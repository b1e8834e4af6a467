# see issue 5
