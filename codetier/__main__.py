from codetier.cli import main

raise SystemExit(main())
