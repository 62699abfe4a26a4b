from lintimg.cli import main

raise SystemExit(main())
