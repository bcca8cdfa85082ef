
d-13"web*v2.4.0HdPÐ`hýRSCR