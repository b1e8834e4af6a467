# make install and friends: see issue 5.
