from django.urls import path

from signatories import views

app_name = "signatories"

urlpatterns = [
    path(
        "letters/<slug:slug>/signatures.csv",
        views.letter_signatures_csv,
        name="letter_csv",
    ),
    path("signatories/<slug:slug>/", views.signatory_detail, name="detail"),
    path("countries/", views.country_list, name="country_list"),
    path("countries/<str:code>/", views.country_detail, name="country_detail"),
]
