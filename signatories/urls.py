from django.urls import path

from signatories import delivered_views, views

app_name = "signatories"

urlpatterns = [
    path(
        "letters/<slug:slug>/signatures.csv",
        views.letter_signatures_csv,
        name="letter_csv",
    ),
    path("letters/<slug:slug>/count.json", views.letter_count, name="letter_count"),
    path("letters/<slug:slug>/sign/", views.sign, name="sign"),
    path("letters/<slug:slug>/sign/sent/", views.sign_sent, name="sign_sent"),
    path("letters/<slug:slug>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("letters/<slug:slug>/withdraw/<str:token>/", views.withdraw, name="withdraw"),
    path("letters/<slug:slug>/news/stop/<str:token>/", views.unfollow, name="unfollow"),
    # The delivered list (issue 12, point 5).
    path("letters/<slug:slug>/delivered/", delivered_views.delivered, name="delivered"),
    path(
        "letters/<slug:slug>/delivered.txt", delivered_views.delivered_file, name="delivered_file"
    ),
    path("privacy/", views.privacy, name="privacy"),
    # <str:…>: a signatory's slug may be in any script (张伟, ζωή), which <slug:…> refuses.
    path("signatories/<str:slug>/", views.signatory_detail, name="detail"),
    path("countries/", views.country_list, name="country_list"),
    path("countries/<str:code>/", views.country_detail, name="country_detail"),
]
