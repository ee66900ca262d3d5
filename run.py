"""Start workshop: monkey-patch eventlet first, then prepare the database, print the links, serve.

`workshop serve` (the console command of the installed package) does the same.
"""

from workshop.ops.green import patch

patch()

from workshop.ops.serve import main  # noqa: E402  (after the monkey-patching)

if __name__ == "__main__":
    main()
