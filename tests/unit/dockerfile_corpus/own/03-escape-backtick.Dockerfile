# escape=`
FROM mcr.microsoft.com/windows/servercore
RUN dir c:\ `
    && echo done
COPY a\b c:\dest\
