# make bench: see issue 6.
