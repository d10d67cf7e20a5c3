import sys

from .migration import main


sys.exit(main())
