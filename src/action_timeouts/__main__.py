"""Run the command line as `python -m action_timeouts`."""

from action_timeouts.cli import main

if __name__ == "__main__":
    main()
