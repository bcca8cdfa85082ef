
d-12"web*v2.4.12v2.4.0:'https://artifacts.example/web-2.4.1.tgzB@9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08H¸PàÔX¬âü‘¡4`h€ýRSCR