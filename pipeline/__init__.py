"""certpipe: service-certification audits scored in Excel, reported in Word."""

__version__ = "0.1.0"
