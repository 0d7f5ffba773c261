from pipeline.cli import main

if __name__ == "__main__":  # not in a worker process started by spawn, which imports this module again
    main()
