from django.http import HttpRequest, HttpResponse


def answer(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(status=404)
