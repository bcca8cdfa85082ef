
d-13"web*v2.4.02v2.4.1HdPÐ`hpýRSCR